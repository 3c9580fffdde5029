"""Selection: rankings with calibrated scores, deliberation, decisions and published results."""
