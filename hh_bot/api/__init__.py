"""The HappyHorse API through APIYI: the client, reading its answers, task status, retry rules."""
