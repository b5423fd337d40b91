import secrets
import time
from datetime import timedelta

import pandas as pd
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cs_platform.bulk import upsert
from customers import demo_data
from customers.imports.load import INTERACTION_COLUMNS, ORDER_COLUMNS, with_customer_defaults
from customers.models import Customer, Interaction, Order
from feedback.models import Survey, SurveyInvitation, SurveyResponse, hash_token
from feedback.sentiment import sentiment
from metrics.models import AccountSettings

DEMO_USERNAME = "owner"
DEMO_PASSWORD = "demo-owner-2026"
DEMO_BUSINESS = "Northwind Records"


class Command(BaseCommand):
    help = (
        "Load a believable small shop: the real CDNOW purchase log (23,570 customers), "
        "shifted to end yesterday, with generated names, plans, interactions, tickets "
        "and a year of NPS answers. "
        "Idempotent: running it again updates the same rows. Also creates the demo login."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--synthetic",
            action="store_true",
            help="Use generated transactions even if the CDNOW data is available.",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=23_570,
            help="Number of customers for synthetic data (default: CDNOW's).",
        )
        parser.add_argument("--no-user", action="store_true", help="Do not create the demo login.")

    def handle(self, synthetic=False, customers=23_570, no_user=False, **options):
        started = time.perf_counter()
        transactions = None if synthetic else demo_data.read_cdnow()
        if transactions is None:
            if not synthetic:
                self.stderr.write(
                    self.style.WARNING(
                        "The CDNOW data set (inside the lifetimes wheel) could not be downloaded; "
                        "using a synthetic generator of the same shape instead."
                    )
                )
            transactions = demo_data.synthetic_transactions(customers)
            source = "synthetic (CDNOW-shaped)"
        else:
            source = "CDNOW_master.txt from the lifetimes wheel"
        customer_frame, order_frame, interaction_frame = demo_data.build_demo(
            transactions, timezone.localdate()
        )
        customer_frame = with_customer_defaults(customer_frame, timezone.now())
        with transaction.atomic():
            upsert(
                Customer,
                customer_frame,
                key="external_id",
                update_columns=[
                    c
                    for c in customer_frame.columns
                    if c not in ("external_id", "created_at", "updated_at")
                ],
                touch_columns=["updated_at"],
            )
            ids = dict(
                Customer.objects.filter(external_id__startswith="cdnow-").values_list(
                    "external_id", "id"
                )
            )
            for model, frame, columns in (
                (Order, order_frame, ORDER_COLUMNS),
                (Interaction, interaction_frame, INTERACTION_COLUMNS),
            ):
                frame = frame.assign(customer_id=frame["customer_external_id"].map(ids))
                upsert(model, frame[columns], key="external_id")
            answers = self._survey_answers(customer_frame, order_frame, ids)
            self._business()
        self.stdout.write(
            f"Demo data from {source}: {len(customer_frame):,} customers, {len(order_frame):,} "
            f"orders, {len(interaction_frame):,} interactions, {answers:,} NPS answers "
            f"({time.perf_counter() - started:.1f} s)."
        )
        if not no_user:
            self._demo_user()

    def _business(self) -> None:
        """The demo shop's name and reply address, unless the owner set their own."""
        account = AccountSettings.load()
        if not account.business_name:
            account.business_name = DEMO_BUSINESS
            account.reply_to = account.reply_to or "hello@northwind-records.example"
            # The digest and alerts show in the console of `make run` (console e-mail).
            account.digest_to = account.digest_to or "owner@northwind-records.example"
            account.save()

    def _survey_answers(self, customer_frame, order_frame, ids) -> int:
        """A year of the demo NPS survey (once: a second load keeps the first answers)."""
        survey, created = Survey.objects.get_or_create(
            name="Demo NPS",
            defaults={
                "kind": "nps",
                "question_en": "How likely are you to recommend us to a friend?",
                "question_zh": "您有多大可能向朋友推荐我们？",
                "followup_en": "What is the main reason for your score?",
                "followup_zh": "您打分的主要原因是什么？",
            },
        )
        if not created:
            return survey.invitations.filter(responded_at__isnull=False).count()
        frame = demo_data.survey_answers(customer_frame, order_frame, timezone.localdate())
        frame = frame.assign(customer_id=frame["customer_external_id"].map(ids))
        invitations = SurveyInvitation.objects.bulk_create(
            [
                SurveyInvitation(
                    survey=survey,
                    customer_id=row.customer_id,
                    token_hash=hash_token(secrets.token_urlsafe(24)),
                    created_at=row.sent_at,
                    sent_at=row.sent_at,
                    opened_at=row.responded_at if pd.notna(row.responded_at) else None,
                    responded_at=row.responded_at if pd.notna(row.responded_at) else None,
                    expires_at=row.sent_at + timedelta(days=survey.link_days),
                )
                for row in frame.itertuples()
            ],
            batch_size=2000,
        )
        mood = {comment: sentiment(comment) for comment in frame["comment"].unique()}
        responses = [
            SurveyResponse(
                invitation=invitation,
                customer_id=row.customer_id,
                kind="nps",
                score=row.score,
                comment=row.comment,
                language=row.language,
                sentiment=mood[row.comment],
                responded_at=row.responded_at,
            )
            for invitation, row in zip(invitations, frame.itertuples(), strict=True)
            if row.score >= 0
        ]
        SurveyResponse.objects.bulk_create(responses, batch_size=2000)
        return len(responses)

    def _demo_user(self):
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "owner@example.com"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}   API token: {token.key}"
            )
        )
