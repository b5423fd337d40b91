"""Fast, honest test settings: same code paths, cheaper hashing, mail kept in memory."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789abcdef")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A process started by a test (a worker, a command) may be pointed at a real SMTP server.
EMAIL_BACKEND = os.environ.get(
    "TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", "/tmp/cs_platform_test_media"))  # noqa: F405
# Tests run tasks in-process even when REDIS_URL is set: a worker could not see the
# uncommitted data of a test. The services test switches a real worker on explicitly.
CELERY_TASK_ALWAYS_EAGER = True
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
