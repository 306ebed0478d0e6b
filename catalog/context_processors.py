from .selectors import top_categories


def navigation(request):
    """The header's category menu, from the cached tree (no query per page)."""
    return {"nav_categories": top_categories()}
