#!/usr/bin/python3
"""The seed tutorial's Django app, reproduced for the benchmark (run with
Debian's python3-django: `python3 manage.py runserver 127.0.0.1:PORT --noreload`).
Only the bugs that stop it from running are fixed; see seed/views.py."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seed.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
