"""AWS integrations: thin, typed boto3 wrappers that know nothing about companies."""
