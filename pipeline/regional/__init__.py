"""Regional warnings (防止规模性返贫): villages and townships, not households."""
