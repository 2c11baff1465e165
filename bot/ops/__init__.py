"""Running the hotline as a service: which processes make it up, how they are supervised and
restarted, and how their health is checked."""
