"""A size limit on uploaded files (settings.IMPORT_MAX_MB): the upload handler stops
keeping a file once it passes the limit, so a huge upload never fills the disk, and
marks the request so that the page can say why."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


def max_bytes() -> int:
    return settings.IMPORT_MAX_MB * 1024 * 1024


class SizeLimitedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)  # the rest is read and dropped
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) keeps the file
