"""The department portal: templates, a pre-check in seconds, and submission, for the departments' clerks.

Laid out like FastAPI's "bigger applications": :mod:`.app` builds the
application, :mod:`.deps` holds the dependencies (state, database, signed-in
user, CSRF), :mod:`.routers` one ``APIRouter`` per area (auth, templates,
checks, submissions), each page beside its JSON twin, and both call one
function of :mod:`.service`. Pages are Jinja templates under ``html/`` with
one stylesheet under ``static/``; nothing is loaded from elsewhere.
"""
