"""Hand-made Hot Papers posts for parser tests (same layout as the real archive)."""

from __future__ import annotations

SCRIPT = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'


def front_matter(day: str = "2021-08-03", generated: str = "2021-08-04T09:49:00.Z") -> str:
    return (
        f"---\ntitle: Hot Papers {day}\ndate: {generated}\n"
        'template: "post"\ndraft: false\n'
        f'slug: "hot-papers-{day}"\ncategory: "arXiv"\n'
        'tags:\n  - "arXiv"\n  - "Twitter"\n  - "Machine Learning"\n  - "Computer Science"\n'
        f'description: "Hot papers {day}"\nsocialImage: "/media/flying-marine.jpg"\n\n---\n'
    )


def tweet(
    text: str = 'Our new paper<br>pdf: <a href="https://t.co/x">https://t.co/x</a>',
    author: str = "Ada Lovelace",
    handle: str = "ada",
    status: str = "1422383627384594434",
    date: str = "August 3, 2021",
) -> str:
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; '
        f'{author} (@{handle}) <a href="https://twitter.com/{handle}/status/{status}'
        f'?ref_src=twsrc%5Etfw">{date}</a></blockquote>\n{SCRIPT}'
    )


def paper(
    rank: int = 1,
    title: str = "A Paper",
    authors: str = "Ada Lovelace, Charles Babbage",
    arxiv_id: str = "2108.00946",
    retweets: int = 10,
    favorites: int = 5,
    stamp: str = "08/04/2021 09:49:00",
    categories: tuple[str, ...] = ("cs.CV", "cs.LG"),
    abstract: str = "We do things.",
    tweets: tuple[str, ...] = (),
) -> str:
    cats = " | ".join(f"[{c}](https://arxiv.org/list/{c}/recent)" for c in categories)
    out = (
        f"# {rank}. {title}\n\n{authors}\n\n"
        f"- retweets: {retweets}, favorites: {favorites} ({stamp})\n\n"
        f"- links: [abs](https://arxiv.org/abs/{arxiv_id}) | [pdf](https://arxiv.org/pdf/{arxiv_id})\n"
        f"- {cats}\n\n{abstract}\n\n"
    )
    out += "".join(f"{t}\n\n" for t in tweets)
    return out + "\n\n"


def post(*papers: str, day: str = "2021-08-03") -> str:
    fm = front_matter(day)
    if not papers:
        return fm
    return fm + "\n" + "\n".join(papers)
