"""What the sync service reaches outside itself: the province gateway."""
