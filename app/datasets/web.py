"""HTML pages of the datasets domain."""

from fastapi import APIRouter

router = APIRouter()
