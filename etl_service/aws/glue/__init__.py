"""AWS Glue: the Glue job script and its Data Catalog integration."""
