"""/api/v1 endpoints of the datasets domain."""

from fastapi import APIRouter

router = APIRouter()
