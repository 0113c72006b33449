"""Import ZStack query replies from files into the database, and export it in the same shape."""
