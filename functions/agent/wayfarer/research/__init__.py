"""Research providers behind one factory chosen by settings."""

from __future__ import annotations

from wayfarer.providers import ResearchProvider
from wayfarer.settings import Settings


class ResearchConfigError(ValueError):
    """The research provider cannot be built from the settings."""


def make_research_provider(settings: Settings) -> ResearchProvider:
    if settings.research_provider == "tavily":
        if not settings.tavily_api_key:
            raise ResearchConfigError(
                "WAYFARER_RESEARCH_PROVIDER=tavily needs WAYFARER_TAVILY_API_KEY; "
                "set it, or use WAYFARER_RESEARCH_PROVIDER=offline."
            )
        from wayfarer.research.tavily import TavilyResearch

        return TavilyResearch(settings.tavily_api_key)
    from wayfarer.research.offline import OfflineGuide

    return OfflineGuide()
