"""Plans: what osctl would do, computed purely from config, state, live data and the clock."""
