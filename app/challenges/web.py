"""HTML pages of the challenges domain."""

from fastapi import APIRouter

router = APIRouter()
