"""The public page "how limits are decided": the service's strategy told in plain words, no sign-in needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from linewise.explain.criteria import published_criteria
from linewise.service.deps import ServicesDep
from linewise.service.pages.render import page_lang, render
from linewise.service.pages.session import MaybeSignedIn
from linewise.service.pages.views import criteria_sections

__all__ = ["router"]

router = APIRouter()


@router.get("/criteria", name="criteria", response_class=HTMLResponse)
def criteria(request: Request, who: MaybeSignedIn, services: ServicesDep) -> Response:
    """The criteria of the strategy the service decides by, as ``linewise strategy explain`` renders them.

    With several arms, the text is that of the arm with the largest share (the first of equal shares).
    """
    _arm, text = published_criteria(services.decider.strategy, page_lang(request))
    title, sections = criteria_sections(text)
    return render(request, "criteria.html", who=who, title=title, sections=sections)
