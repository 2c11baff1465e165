"""What the Rasa server of the hotline loads from this project: the REST channel (credentials.yml),
the tracker and lock stores (endpoints*.yml), an NLU component (config.yml) and the speed-ups the
channel installs."""
