"""Tests that pin every FreeSWITCH string built by plivoxml_fs.fs.commands."""
