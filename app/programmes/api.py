"""/api/v1 endpoints of the programmes domain."""

from fastapi import APIRouter

router = APIRouter()
