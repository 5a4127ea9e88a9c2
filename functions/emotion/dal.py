"""Data access of the emoji-face function: its own tables, and the two facts it reads
from others (whether a photo is the user's, whether the user consents)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cheese_runtime.consent import EXPRESSION_ANALYSIS, Consents
from cheese_runtime.db.types import utcnow
from functions.emotion.models import (
    EmojiAvatarChoice,
    EmojiExpressionDaily,
    EmojiExpressionTotal,
    EmojiTask,
    EmojiTemplate,
    EmojiTemplateImage,
    EmojiTemplateUseDaily,
)


def _upsert_add(
    session: Session, table: Any, keys: dict[str, Any], column: str, amount: int
) -> None:
    """INSERT the row with ``column = amount`` or add ``amount`` to it, in one statement."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**keys, **{column: amount})
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={column: getattr(table, column) + amount},
        )
    )


class TemplateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, template_id: str) -> EmojiTemplate | None:
        return self.session.get(EmojiTemplate, template_id)

    def get_for_update(self, template_id: str) -> EmojiTemplate | None:
        return self.session.scalars(
            select(EmojiTemplate).where(EmojiTemplate.id == template_id).with_for_update()
        ).one_or_none()

    def visible_to(self, user_id: str, template_id: str) -> EmojiTemplate | None:
        """The template if the user may see it: built-in, public and ready, or their own."""
        template = self.get(template_id)
        if template is None or not visible(template, user_id):
            return None
        return template

    def images(self, template_ids: Sequence[str]) -> dict[str, list[EmojiTemplateImage]]:
        by_template: dict[str, list[EmojiTemplateImage]] = {t: [] for t in template_ids}
        if template_ids:
            for image in self.session.scalars(
                select(EmojiTemplateImage).where(EmojiTemplateImage.template_id.in_(template_ids))
            ):
                by_template[image.template_id].append(image)
        return by_template

    def image_for_update(self, template_id: str, expression: str) -> EmojiTemplateImage | None:
        return self.session.scalars(
            select(EmojiTemplateImage)
            .where(
                EmojiTemplateImage.template_id == template_id,
                EmojiTemplateImage.expression == expression,
            )
            .with_for_update()
        ).one_or_none()

    def page(
        self,
        user_id: str,
        *,
        sort: str,
        after: tuple[Any, str] | None,
        limit: int,
        only_mine: bool = False,
    ) -> list[EmojiTemplate]:
        """Built-in, public-and-ready and the user's own templates (or only the user's),
        newest or most used first, keyset-paged after (sort value, id)."""
        key = EmojiTemplate.use_count if sort == "popular" else EmojiTemplate.created_at
        query = select(EmojiTemplate)
        if only_mine:
            query = query.where(EmojiTemplate.owner_id == user_id)
        else:
            query = query.where(
                or_(
                    EmojiTemplate.builtin_set.is_not(None),
                    and_(EmojiTemplate.public.is_(True), EmojiTemplate.status == "ready"),
                    EmojiTemplate.owner_id == user_id,
                )
            )
        if after is not None:
            value, last_id = after
            query = query.where(or_(key < value, and_(key == value, EmojiTemplate.id < last_id)))
        query = query.order_by(key.desc(), EmojiTemplate.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def refresh_status(self, template: EmojiTemplate) -> None:
        """ready when all seven images passed; failed (with the first reason) when one failed."""
        images = self.session.scalars(
            select(EmojiTemplateImage).where(EmojiTemplateImage.template_id == template.id)
        ).all()
        failed = sorted((i for i in images if i.status == "failed"), key=lambda i: i.expression)
        if failed:
            template.status = "failed"
            template.failure_reason = f"{failed[0].expression}: {failed[0].failure_reason}"[:300]
        elif images and all(i.status == "ready" for i in images):
            template.status, template.failure_reason = "ready", None
        else:
            template.status, template.failure_reason = "uploading", None

    def count_use(self, template_id: str, day: date) -> None:
        self.session.execute(
            update(EmojiTemplate)
            .where(EmojiTemplate.id == template_id)
            .values(use_count=EmojiTemplate.use_count + 1)
        )
        _upsert_add(
            self.session,
            EmojiTemplateUseDaily,
            {"day": day, "template_id": template_id},
            "uses",
            1,
        )


def visible(template: EmojiTemplate, user_id: str) -> bool:
    return (
        template.builtin_set is not None
        or template.owner_id == user_id
        or (template.public and template.status == "ready")
    )


class TaskRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def owned(self, user_id: str, task_id: str) -> EmojiTask | None:
        task = self.session.get(EmojiTask, task_id)
        return task if task is not None and task.user_id == user_id else None

    def get_for_update(self, task_id: str) -> EmojiTask | None:
        return self.session.scalars(
            select(EmojiTask).where(EmojiTask.id == task_id).with_for_update()
        ).one_or_none()

    def page(self, user_id: str, after: tuple[Any, str] | None, limit: int) -> list[EmojiTask]:
        query = select(EmojiTask).where(EmojiTask.user_id == user_id)
        if after is not None:
            created, last_id = after
            query = query.where(
                or_(
                    EmojiTask.created_at < created,
                    and_(EmojiTask.created_at == created, EmojiTask.id < last_id),
                )
            )
        query = query.order_by(EmojiTask.created_at.desc(), EmojiTask.id.desc()).limit(limit)
        return list(self.session.scalars(query))


class RankingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count_expressions(self, day: date, expressions: Sequence[str]) -> None:
        counts: dict[str, int] = {}
        for expression in expressions:
            counts[expression] = counts.get(expression, 0) + 1
        for expression, faces in sorted(counts.items()):
            _upsert_add(
                self.session,
                EmojiExpressionDaily,
                {"day": day, "expression": expression},
                "faces",
                faces,
            )
            _upsert_add(
                self.session, EmojiExpressionTotal, {"expression": expression}, "faces", faces
            )

    def top_templates(self, since: date | None, limit: int) -> list[tuple[EmojiTemplate, int]]:
        """Most used templates that anyone may see (built-in, or public and ready)."""
        shown = or_(
            EmojiTemplate.builtin_set.is_not(None),
            and_(EmojiTemplate.public.is_(True), EmojiTemplate.status == "ready"),
        )
        if since is None:
            rows = self.session.execute(
                select(EmojiTemplate, EmojiTemplate.use_count)
                .where(shown, EmojiTemplate.use_count > 0)
                .order_by(EmojiTemplate.use_count.desc(), EmojiTemplate.id)
                .limit(limit)
            ).all()
        else:
            uses = func.sum(EmojiTemplateUseDaily.uses).label("uses")
            rows = self.session.execute(
                select(EmojiTemplate, uses)
                .join(EmojiTemplateUseDaily, EmojiTemplateUseDaily.template_id == EmojiTemplate.id)
                .where(shown, EmojiTemplateUseDaily.day >= since)
                .group_by(EmojiTemplate.id)
                .order_by(uses.desc(), EmojiTemplate.id)
                .limit(limit)
            ).all()
        return [(template, int(count)) for template, count in rows]

    def expressions(self, since: date | None) -> list[tuple[str, int]]:
        if since is None:
            rows = self.session.execute(
                select(EmojiExpressionTotal.expression, EmojiExpressionTotal.faces)
            ).all()
        else:
            rows = self.session.execute(
                select(EmojiExpressionDaily.expression, func.sum(EmojiExpressionDaily.faces))
                .where(EmojiExpressionDaily.day >= since)
                .group_by(EmojiExpressionDaily.expression)
            ).all()
        ranked = [(str(expression), int(faces)) for expression, faces in rows if faces]
        return sorted(ranked, key=lambda row: (-row[1], row[0]))


class AvatarChoiceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> EmojiAvatarChoice | None:
        return self.session.get(EmojiAvatarChoice, user_id)

    def choose(self, user_id: str, template_id: str) -> EmojiAvatarChoice:
        choice = self.get(user_id)
        if choice is None:
            choice = EmojiAvatarChoice(user_id=user_id, template_id=template_id)
            self.session.add(choice)
        else:
            choice.template_id, choice.chosen_at = template_id, utcnow()
        self.session.flush()
        return choice


class OtherFunctions:
    """What this function reads from other functions' tables, and nothing more."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def photo_status(self, user_id: str, photo_id: str) -> str | None:
        """The photo's status if it is the user's (None: missing or someone else's)."""
        row = self.session.execute(
            text("SELECT status FROM photos WHERE id = :id AND user_id = :user"),
            {"id": photo_id, "user": user_id},
        ).first()
        return None if row is None else str(row[0])

    def expression_consent(self, user_id: str) -> bool:
        return Consents(self.session).granted(user_id, EXPRESSION_ANALYSIS)
