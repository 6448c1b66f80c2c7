"""Conversations: the answer pipeline, history, export, context, thinking, rendering, batch."""
