"""What the API takes and gives: one Pydantic model per direction (In for bodies, Out for answers)."""
