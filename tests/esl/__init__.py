"""Tests of the sans-IO ESL codec and the gevent transport."""
