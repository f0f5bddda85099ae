"""The gateway's rules, pure Python: cutoffs, record states, who may see or change what."""
