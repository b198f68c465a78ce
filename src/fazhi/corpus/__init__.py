"""The corpus: store, batch, compare, export, copying and follow-through."""
