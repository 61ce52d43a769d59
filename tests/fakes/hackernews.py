"""Realistic Hacker News (Algolia) bodies: story hits and search_by_date answers."""

from __future__ import annotations

import datetime as dt
import math


def story_hit(
    object_id: int,
    url: str | None,
    *,
    created: dt.datetime,
    title: str = "A paper on HN",
    author: str = "pg",
    points: int | None = 100,
    comments: int | None = 20,
) -> dict:
    """One story as Algolia's HN index returns it."""
    return {
        "_highlightResult": {
            "author": {"matchLevel": "none", "matchedWords": [], "value": author},
            "title": {"matchLevel": "none", "matchedWords": [], "value": title},
            "url": {"matchLevel": "full", "matchedWords": ["arxiv", "org"], "value": url or ""},
        },
        "_tags": ["story", f"author_{author}", f"story_{object_id}"],
        "author": author,
        "children": [object_id + 1, object_id + 2],
        "created_at": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": int(created.timestamp()),
        "num_comments": comments,
        "objectID": str(object_id),
        "points": points,
        "story_id": object_id,
        "title": title,
        "updated_at": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": url,
    }


def search_response(
    hits: list[dict], *, nb_hits: int, page: int, hits_per_page: int, query: str, params: str
) -> dict:
    """A search_by_date answer (Algolia caps what is reachable at 1,000 hits)."""
    reachable = min(nb_hits, 1000)
    return {
        "exhaustive": {"nbHits": True, "typo": True},
        "exhaustiveNbHits": True,
        "exhaustiveTypo": True,
        "hits": hits,
        "hitsPerPage": hits_per_page,
        "nbHits": nb_hits,
        "nbPages": math.ceil(reachable / hits_per_page) if hits_per_page else 0,
        "page": page,
        "params": params,
        "processingTimeMS": 3,
        "query": query,
        "serverTimeMS": 4,
    }
