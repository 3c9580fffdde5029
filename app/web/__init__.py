"""The HTML face: templating, request dependencies, flash messages and error pages."""
