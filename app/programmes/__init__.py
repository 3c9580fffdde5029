"""Programmes: editions such as "Casablanca 2017", with their organisations and calendar of phases."""
