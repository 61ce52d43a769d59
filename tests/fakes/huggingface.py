"""Realistic Hugging Face Papers bodies: /api/daily_papers items and /api/papers/{id}.

Shapes follow the live API: a daily item wraps the paper (`paper.id`, `paper.upvotes`,
`paper.githubRepo`, `paper.projectPage`, `paper.submittedOnDailyBy`, authors with `_id`,
`name`, `hidden`) and adds `numComments`, `submittedBy`, `publishedAt`, `thumbnail`.
"""

from __future__ import annotations

import datetime as dt
import hashlib


def _oid(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:24]


def _user(name: str, fullname: str, key: str) -> dict:
    return {
        "_id": _oid(name),
        "avatarUrl": f"https://cdn-avatars.huggingface.co/v1/production/uploads/{_oid(name)}/a.jpeg",
        "fullname": fullname,
        key: name,
        "type": "user",
        "isPro": False,
    }


def paper_json(
    arxiv_id: str,
    *,
    upvotes: int = 10,
    title: str | None = None,
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    github: str | None = None,
    project: str | None = None,
    submitter: str = "akhaliq",
    published: dt.datetime = dt.datetime(2024, 5, 1, 17, 59, 59, tzinfo=dt.UTC),
    featured: dt.date = dt.date(2024, 5, 2),
) -> dict:
    """The paper object (what /api/papers/{id} returns, and `paper` inside a daily item)."""
    paper = {
        "id": arxiv_id,
        "authors": [{"_id": _oid(arxiv_id + a), "name": a, "hidden": False} for a in authors],
        "publishedAt": published.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "submittedOnDailyAt": f"{featured.isoformat()}T02:44:20.973Z",
        "title": title or f"Paper {arxiv_id}",
        "submittedOnDailyBy": _user(submitter, submitter.title(), "user"),
        "summary": "We propose a thing.\nIt works.",
        "upvotes": upvotes,
        "discussionId": _oid("d" + arxiv_id),
        "ai_summary": "A thing that works.",
        "ai_keywords": ["thing", "works"],
    }
    if github:
        paper["githubRepo"] = github
        paper["githubStars"] = 42
    if project:
        paper["projectPage"] = project
    return paper


def daily_item(arxiv_id: str, *, comments: int = 2, **kw) -> dict:
    """One element of /api/daily_papers?date=... (keyword arguments as for paper_json)."""
    paper = paper_json(arxiv_id, **kw)
    return {
        "paper": paper,
        "publishedAt": paper["submittedOnDailyAt"],
        "title": paper["title"],
        "summary": paper["summary"],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": comments,
        "submittedBy": _user(kw.get("submitter", "akhaliq"), "AK", "name"),
        "isAuthorParticipating": False,
    }
