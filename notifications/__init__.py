"""Telling people: the citizen's in-app inbox, staff notices, and the queue of platform messages to send."""
