"""The seed's views, as the tutorial wrote them, with only the bugs fixed
that keep it from running:
  - request.method == 'post'      -> 'POST' (the branch was dead);
  - request.request.GET           -> request.GET;
  - render(...) of a template dir  -> a plain page (no templates here).
Everything else is the tutorial's: a global dict of unbounded queues, put()
into every queue, get(timeout=10).  (Its other bugs stay: a repeated name
replaces the queue; an unknown name is a server error.)"""
import queue

from django.http import HttpResponse, JsonResponse

q_dict = {}


def ab_dy(request):
    if request.method == "POST":
        return JsonResponse({"username": "tony"})
    return HttpResponse("<button id='d1'>ajax</button>")


def ab_b1(request):
    name = request.GET.get("name")
    q_dict[name] = queue.Queue()
    return HttpResponse("<p>long polling page for %s</p>" % name)


def send_msg(request):
    if request.method == "POST":
        content = request.POST.get("content")
        for q in q_dict.values():
            q.put(content)
        return HttpResponse("ok")


def get_msg(request):
    name = request.GET.get("name")
    q = q_dict.get(name)
    back_dic = {"status": True, "msg": ""}
    try:
        data = q.get(timeout=10)
        back_dic["msg"] = data
    except queue.Empty:
        back_dic["status"] = False
    return JsonResponse(back_dic)
