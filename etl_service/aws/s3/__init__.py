"""S3: access for any endpoint (``filesystem``) and the lake's bucket as code (``data_lake``)."""
