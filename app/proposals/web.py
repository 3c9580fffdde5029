"""HTML pages of proposals: my applications, the proposal form (autosaved), submission and receipts, the
sponsors' list, eligibility and exports, extra questions."""

from fastapi import APIRouter

router = APIRouter()
