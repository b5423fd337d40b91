from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"
