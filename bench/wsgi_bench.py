"""gunicorn entry point of the benchmark: the project's WSGI app, prepared by benchapp.prepare()."""

import benchapp

application = benchapp.wsgi_application()
