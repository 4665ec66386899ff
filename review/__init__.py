"""The web review queue for the LSCP team (see the review-queue issue)."""
