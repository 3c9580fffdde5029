"""/api/v1 endpoints of the challenges domain."""

from fastapi import APIRouter

router = APIRouter()
