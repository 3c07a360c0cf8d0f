"""The service catalogue: items (事项), their materials and forms, and 一件事 bundles."""
