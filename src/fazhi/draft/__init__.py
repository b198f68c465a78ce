"""The annual report draft written from a ledger (GB/T 9704 layout), read back by the analyser."""
