from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        """A page_size that is not a whole number from 1 to 1000 is refused (400), not
        silently replaced by the default."""
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: f"A whole number from 1 to {self.max_page_size}."}
            )
        return int(raw[0])
