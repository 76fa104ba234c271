"""The fake ONDE: schools, classes, pupils, responsables, their links, and the change log."""
