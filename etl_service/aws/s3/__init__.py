"""S3 data-lake operations: layout, atomic publication, lifecycle."""
