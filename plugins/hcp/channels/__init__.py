"""One module per source channel, each turning its native format into raw rows (domain.md section 3)."""
