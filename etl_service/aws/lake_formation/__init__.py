"""AWS Lake Formation: data-lake registration, catalog databases and permissions."""
