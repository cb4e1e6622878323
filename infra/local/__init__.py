"""The local stack: moto server as embedded AWS, template.yaml's resources in it, an HTTP gateway."""
