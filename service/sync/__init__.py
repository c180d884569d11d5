"""The arq worker: sync tasks, the sweeper, coalescing and the rate budget."""
