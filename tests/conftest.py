"""Test-wide set-up: gevent patches the standard library before anything else imports it."""

from gevent import monkey

monkey.patch_all()
