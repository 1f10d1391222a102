"""Web research through Tavily's search API."""

from __future__ import annotations

from typing import Any

from wayfarer.graph.state import Source
from wayfarer.providers import ProviderError


class TavilyResearch:
    name = "tavily"

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key
        self._client: Any = None

    async def search(self, query: str, max_results: int) -> list[Source]:
        if self._client is None:
            from tavily import AsyncTavilyClient

            self._client = AsyncTavilyClient(api_key=self._api_key)
        try:
            answer = await self._client.search(query, max_results=max_results)
        except Exception as exc:  # the client raises several unrelated types
            raise ProviderError(f"Tavily search for {query!r} failed: {exc}") from exc
        return [
            Source(query=query, title=r.get("title") or r["url"], url=r["url"], content=r.get("content", ""))
            for r in answer.get("results", [])
            if r.get("url")
        ]
