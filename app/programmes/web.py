"""HTML pages of the programmes domain."""

from fastapi import APIRouter

router = APIRouter()
