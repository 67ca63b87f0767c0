"""Simplified Chinese grammar: the same messages as English, realised with Chinese word order,
measure words and phrasings. Each phrasing states exactly its message's claims.
"""
from __future__ import annotations


from simreel.captioning.plan import Message
from simreel.captioning.questions import Question
from simreel.captioning.realiser import Realiser, pick
from simreel.scenes.library import chinese_names
from simreel.scenes.types import shows_material

COLOUR = {"red": "红色", "orange": "橙色", "yellow": "黄色", "green": "绿色", "cyan": "青色", "blue": "蓝色",
          "purple": "紫色", "pink": "粉色", "brown": "棕色", "white": "白色", "gray": "灰色", "black": "黑色"}
SIZE = {"small": "小", "medium": "中等大小的", "large": "大"}
FLOOR_KINDS = {"planks": ("木地板", "木板地面"), "tiles": ("瓷砖地面", "方砖地面"), "concrete": ("水泥地面", "混凝土地面"),
               "grass": ("草地", "草坪")}
SETTINGS = {"clear_day": ("晴朗的蓝天下", "阳光明媚的白天"), "overcast": ("阴天里", "多云的灰色天空下"), "sunset": ("夕阳下", "日落时分"),
            "night": ("夜晚", "漆黑的夜空下"), "studio": ("摄影棚里", "灰色的摄影棚中")}
MATERIAL = {"rubber": "橡胶", "metal": "金属", "wood": "木制", "ice": "冰制", "plastic": "塑料"}
MATERIAL_NOUN = {"rubber": "橡胶", "metal": "金属", "wood": "木头", "ice": "冰", "plastic": "塑料"}
SHAPE = {"cube": ("立方体", "正方体"), "block": ("长方块", "长方体"), "sphere": ("球", "球体"),
         "cylinder": ("圆柱体", "圆柱"), "cone": ("圆锥体", "圆锥"), "capsule": ("胶囊体",), "rock": ("石块", "岩石")}
MEASURE = {"cube": "个", "block": "块", "sphere": "个", "cylinder": "个", "cone": "个", "capsule": "个", "rock": "块"}
STATIC = {"ramp": ("斜坡", "坡道"), "wall": ("墙",)}
FLOOR_COLOUR = {"gray": "灰色", "bluish gray": "蓝灰色", "greenish gray": "灰绿色", "reddish gray": "红灰色",
                "brownish gray": "褐灰色", "yellowish gray": "黄灰色", "purplish gray": "紫灰色", "beige": "米色",
                "white": "白色", "light gray": "浅灰色", "pale blue": "淡蓝色"}
NUMBER = "零一两三四五六七八九十"
SIDE = {"left": ("画面左侧", "画面的左边"), "right": ("画面右侧", "画面的右边"), "centre": ("画面中央", "画面正中间")}
DIRECTION = {"left": ("向左",), "right": ("向右",), "toward_camera": ("朝镜头", "朝着镜头"),
             "away_from_camera": ("朝远离镜头的方向",)}
CONNECTIVE = {"then": ("然后，", "接着，", "随后，", "之后，", "紧接着，"), "meanwhile": ("与此同时，", "同一时间，"),
              "finally": ("最后，", "最终，")}


def number(n: int) -> str:
    if n < 11:
        return NUMBER[n]
    return f"十{NUMBER[n - 10]}" if n < 20 else str(n)


class Chinese(Realiser):
    """Realises messages for one clip in Simplified Chinese, from the same plan as English."""

    lang = "zh"
    SHAPE, STATIC = SHAPE, STATIC
    COMMA, JOINERS = "，", ("，然后", "，接着", "，随后")

    # --- noun phrases -------------------------------------------------------------------

    def asset_word(self, name: str) -> str:
        """A built-in asset's Chinese noun; a user's asset keeps the name it was given."""
        return chinese_names().get(name, name)

    def words(self, attributes, name: str | None = None) -> str:
        a = dict(attributes)
        size = a.get("size")
        out = ""
        if size is not None:
            out += SIZE[size] + ("" if size == "medium" else "号")
        if "colour" in a:
            out += COLOUR[a["colour"]]
        if "material" in a:
            out += MATERIAL[a["material"]]
        shape = a.get("shape")
        out += self.shape_word[name] if name else SHAPE[shape][0] if shape else "物体"
        return out

    def definite(self, attributes, spatial, name: str | None = None) -> str:
        words = self.words(attributes, name)
        if spatial is None:
            return words
        relation, rank = spatial
        if rank == 0:
            lead = {"from_left": "最左边的", "from_right": "最右边的", "from_near": "离镜头最近的", "from_far": "离镜头最远的"}
            return lead[relation] + words
        nth = f"第{number(rank + 1)}个"  # refer ranks 0 and 1 only
        return {"from_left": f"左数{nth}", "from_near": f"离镜头由近到远{nth}"}[relation] + words

    def ref(self, name: str) -> str:
        if name == "floor":
            return "地面"
        if name in self.static_word:
            return self.static_word[name]
        return self.refs[name]

    def full(self, name: str, rng) -> str:
        """一个小的红色橡胶球 — every attribute, with its measure word."""
        thing = self.things[name]
        if name in self.static_word:
            return f"一个{COLOUR[thing.colour]}的{MATERIAL[thing.material]}{self.static_word[name]}"
        size = SIZE[thing.size]
        one = "一" + ("个" if thing.asset else MEASURE[thing.shape])
        colour, shape = COLOUR[thing.colour], self.shape_word[name]
        material = MATERIAL[thing.material] if shows_material(thing) else ""  # not seen on an asset in its own colours
        if thing.size != "medium" and rng.random() < 0.4:  # 一个红色的小橡胶球
            return f"{one}{colour}的{size}{material}{shape}"
        size = size if size.endswith("的") else size + pick(rng, ("的", ""))  # 一个小的红色橡胶球
        return f"{one}{size}{colour}{material}{shape}"

    # --- clauses ------------------------------------------------------------------------

    def at(self, m: Message, rng) -> str:
        t = m.slot("at")
        if t is None:
            return ""
        return pick(rng, (f"在大约{t:.1f}秒时", f"在{t:.1f}秒左右", f"约{t:.1f}秒时"))

    def vp(self, m: Message, rng, other: str | None = None, prev: Message | None = None) -> str:
        k = m.kind
        x = other if other is not None else (self.ref(m.other) if m.other else "")
        if k == "bounce" and prev is not None and m.other in (prev.other, prev.slot("onto")):
            return self.at(m, rng) + pick(rng, ("又弹了起来", "随即弹起", "反弹起来"))
        if k == "fall":
            if m.slot("onto") is None:
                vp = pick(rng, ("下落", "往下掉", "坠落"))
            elif m.slot("onto") == "floor":
                vp = pick(rng, ("落到地面上", "掉在地板上", "坠落到地上"))
            else:
                vp = pick(rng, (f"落到{x}上", f"掉落在{x}上", f"坠落到{x}上面"))
        elif k == "fly":
            vp = pick(rng, ("在空中飞过", "划过空中", "在空中飞行", "从空中掠过"))
        elif k == "land":
            vp = pick(rng, (f"落在{x}上", f"降落在{x}上"))
        elif k == "hit":
            vp = pick(rng, (f"撞上{x}", f"撞到{x}", f"撞击{x}", f"碰上{x}", f"撞向{x}"))
        elif k == "collide":
            vp = pick(rng, (f"与{x}相撞", f"和{x}撞在一起"))
        elif k == "bounce":
            vp = pick(rng, (f"从{x}上弹起", f"被{x}弹了起来", f"在{x}上反弹"))
        elif k == "topple":
            vp = pick(rng, ("倒下", "翻倒", "倾倒", "翻了过去", "倒了下去"))
        elif k == "descend":
            verb = {"roll": ("滚下", "滚落"), "slide": ("滑下", "滑落")}.get(m.slot("manner"), ("移下", "往下走"))
            vp = f"沿着{x}{pick(rng, verb)}"
        elif k == "travel":
            verb = {"roll": ("滚去", "滚动"), "slide": ("滑去", "滑行")}.get(m.slot("manner"), ("移动", "运动"))
            d = m.slot("direction")
            where = pick(rng, DIRECTION[d]) if d else pick(rng, ("在地面上", "在地板上"))
            vp = f"{where}{pick(rng, verb)}"
        elif k == "exit":
            vp = pick(rng, ("离开画面", "移出画面", "消失在画面之外", "跑出了镜头"))
        elif k == "enter":
            vp = pick(rng, ("进入画面", "出现在画面中"))
        elif k == "rest":
            vp = pick(rng, ("停了下来", "静止不动了", "最终停住", "停稳了", "慢慢停住"))
        elif k == "still":
            vp = pick(rng, ("一直待在原地", "始终没有移动", "保持静止", "纹丝不动"))
        else:
            raise ValueError(f"no Chinese verb phrase for {k!r}")
        return self.at(m, rng) + vp

    # --- sentences ----------------------------------------------------------------------

    def motion(self, messages: list[Message], connective: str | None, rng) -> str:
        text = f"{self.ref(messages[0].subject)}{self.clause_list(self.vps(messages, rng), rng)}。"
        return (pick(rng, CONNECTIVE[connective]) if connective else "") + text

    def event(self, m: Message, rng) -> str:
        return f"{self.ref(m.subject)}{self.vp(m, rng)}。"

    def place(self, part: tuple, rng) -> tuple[str, str]:
        """(verb phrase, location phrase) for one placement part."""
        kind = part[0]
        if kind == "floor":
            return pick(rng, ("放在地面上", "静置在地板上", "停在地面上")), "地面上"
        if kind == "air":
            return pick(rng, ("悬在半空中", "悬停在空中", "被举在空中")), "半空中"
        x = self.ref(part[1]) if kind != "side" else ""
        if kind == "on":
            return pick(rng, (f"放在{x}上", f"停在{x}上")), f"{x}上"
        if kind == "on_top_of":
            return pick(rng, (f"叠放在{x}上面", f"放在{x}顶上")), f"{x}顶上"
        if kind == "above":
            return pick(rng, (f"悬在{x}的上方", f"被举在{x}上方")), f"{x}的上方"
        if kind == "side":
            pp = pick(rng, SIDE[part[1]])
            return f"位于{pp}", pp
        pp = {"left_of": (f"{x}的左边", f"{x}左侧"), "right_of": (f"{x}的右边", f"{x}右侧"),
              "in_front_of": (f"{x}的前方", f"比{x}离镜头更近的地方"),
              "behind": (f"{x}的后方", f"比{x}离镜头更远的地方")}[kind]
        pp = pick(rng, pp)
        return f"位于{pp}", pp

    def intro(self, m: Message, rng) -> str:
        np_ = self.full(m.subject, rng)
        parts = m.slot("where")
        if not parts:
            return f"场景中有{np_}。"
        vp, pp = self.place(parts[0], rng)
        if m.slot("moving"):
            vp = f"从{pp}出发"
        rest = [self.place(p, rng)[1] for p in parts[1:]]
        if rest and rng.random() < 0.4:
            return f"在{rest[0]}，{np_}{vp}。"
        return f"{np_}{vp}" + (f"，位于{rest[0]}" if rest else "") + "。"

    def intros(self, messages: list[Message], connective: str | None, rng) -> str:
        nps = [self.full(m.subject, rng) for m in messages]
        where = messages[0].slot("where")[0][0]
        vp = pick(rng, ("都放在地面上", "都静置在地板上") if where == "floor" else ("都悬在半空中", "都被举在空中"))
        return f"{'、'.join(nps[:-1])}和{nps[-1]}{vp}。"

    def static(self, m: Message, rng) -> str:
        return pick(rng, (f"场景中有{self.full(m.subject, rng)}。", f"画面里有{self.full(m.subject, rng)}。"))

    def setting(self, m: Message, rng) -> str:
        n = m.slot("n")
        count = "一个物体" if n == 1 else f"{number(n)}个物体"
        floor = m.slot("floor")
        checks = {"large": ("大格子的", "大方格的"), "small": ("小格子的", "细密方格的"), None: ("",)}[m.slot("checks")]
        checks = pick(rng, checks)
        kind = m.slot("kind")
        if kind not in (None, "checker"):
            floor_np = pick(rng, FLOOR_KINDS[kind])
        elif floor is None:
            floor_np = f"{checks}棋盘格地面"
        elif floor[0] == floor[1]:
            floor_np = f"{checks}{FLOOR_COLOUR[floor[0]]}棋盘格地面"
        else:
            floor_np = f"{FLOOR_COLOUR[floor[0]]}与{FLOOR_COLOUR[floor[1]]}相间的{checks}棋盘格地面"
        text = pick(rng, (f"{floor_np}上有{count}", f"画面中，{count}位于{floor_np}上"))
        if m.slot("environment"):
            text = pick(rng, SETTINGS[m.slot("environment")]) + "，" + text
        bg = m.slot("background")
        if bg:
            text += pick(rng, (f"，背景是{FLOOR_COLOUR[bg]}的", f"，背景为{FLOOR_COLOUR[bg]}"))
        return text + "。"

    def camera(self, m: Message, rng) -> str:
        angle = {"high": ("从较高的角度", "从高处"), "low": ("从低角度", "贴近地面"),
                 "level": ("从略高的位置", "从稍高处"), None: ("",)}[m.slot("angle")]
        angle = pick(rng, angle)
        motion, d = m.slot("motion"), m.slot("direction")
        side = {"left": "左", "right": "右"}.get(d, "")
        head = pick(rng, ("镜头", "摄像机"))
        shot = f"{head}{angle}拍摄，" if angle else head
        if motion == "static":
            return shot + pick(rng, ("固定不动。", "始终保持静止。"))
        if motion == "orbit":
            return shot + pick(rng, (f"绕着场景向{side}环绕。", f"围绕物体缓缓向{side}旋转。"))
        if motion == "pan":
            return shot + pick(rng, (f"向{side}平移。", f"向{side}横移。"))
        if motion == "dolly":
            return shot + (pick(rng, ("缓缓推近。", "慢慢向物体靠近。")) if d == "in" else pick(rng, ("缓缓拉远。", "慢慢后退。")))
        return f"画面是{angle}拍摄的。"

    def light(self, m: Message, rng) -> str:
        strength = {"bright": ("明亮的光线", "强烈的光线"), "soft": ("柔和的光线", "柔和的灯光"), None: ("光线",)}[m.slot("strength")]
        side = {"left": ("左侧",), "right": ("右侧",), "front": ("镜头后方", "正面"), "back": ("物体后方", "背面"),
                None: ("",)}[m.slot("side")]
        height = {"high": ("高处",), "low": ("低处",), None: ("",)}[m.slot("height")]
        shadows = pick(rng, ("，在地面上投下阴影", "，投下清晰的影子") if m.slot("shadows") else ("，没有投下阴影", "，画面中没有影子"))
        where = pick(rng, side) + pick(rng, height)
        head = pick(rng, strength)
        if not where:
            if m.slot("strength"):
                return f"{head}照亮了场景{shadows}。"
            return "物体在地面上投下阴影。" if m.slot("shadows") else "画面中没有影子。"
        return f"{head}从{where}照射过来{shadows}。"

    # --- short ---------------------------------------------------------------------------

    def short(self, main: list[Message], extras: list[Message], rng) -> str:
        named: set[str] = set()

        def name(n: str) -> str:
            if n in named or n == "floor":
                return self.ref(n)
            named.add(n)
            return self.full(n, rng)

        text = name(main[0].subject) + self.clause_list(self.vps(main, rng, name), rng)
        for m in extras:
            if m.kind == "camera" and m.slot("motion"):
                text += "，" + self.camera(m, rng)[:-1]
            elif m.kind == "setting" and m.slot("kind") not in (None, "checker"):
                text = f"{pick(rng, SETTINGS[m.slot('environment')])}，在{pick(rng, FLOOR_KINDS[m.slot('kind')])}上，" + text
            elif m.kind == "setting" and m.slot("floor"):
                a, b = (FLOOR_COLOUR[c] for c in m.slot("floor"))
                text = (f"在{a}棋盘格地面上，" if a == b else f"在{a}与{b}相间的棋盘格地面上，") + text
        return text + "。"

    # --- questions -----------------------------------------------------------------------

    def qa(self, q: Question, rng) -> tuple[str, str]:
        s = dict(q.slots)
        yes_no = lambda will: ("会。" if q.answer else "不会。") if will else ("是的。" if q.answer else "没有。")  # noqa: E731
        if q.qtype == "colour":
            return f"{self.definite(s['attributes'], None)}是什么颜色的？", f"{COLOUR[s['value']]}。"
        if q.qtype == "shape":
            return f"{COLOUR[s['colour']]}的物体是什么形状？", f"{SHAPE[s['value']][0]}。"
        if q.qtype == "material":
            return f"{self.ref(q.subject)}是什么材质的？", f"{MATERIAL_NOUN[s['value']]}。"
        if q.qtype == "count":
            what = SHAPE[s["shape"]][0] if "shape" in s else f"{MATERIAL[s['material']]}物体" if "material" in s else "物体"
            return f"场景中有几个{what}？", f"{number(s['n'])}个。" if s["n"] else "一个也没有。"
        if q.qtype == "count_moved":
            return "片段中有几个物体发生了移动？", f"{number(s['n'])}个。" if s["n"] else "一个也没有。"
        if q.qtype == "first_contact":
            return f"除了地面，{self.ref(q.subject)}最先碰到的是什么？", f"{self.ref(s['other'])}。"
        if q.qtype == "does":
            if s.get("flip"):
                verb = {"topple": "一直保持直立", "exit": "一直留在画面中"}[s["event"]]
                return f"{self.ref(q.subject)}是否{verb}？", "是的。" if q.answer else "不是。"
            verb = {"bounce": "弹起来", "topple": "倒下", "exit": "离开画面"}[s["event"]]
            return f"{self.ref(q.subject)}有没有{verb}？", "有。" if q.answer else "没有。"
        if q.qtype == "side":
            return (f"开始时，{self.ref(q.subject)}在{self.ref(s['other'])}的左边吗？",
                    "是的。" if q.answer else "不是，在右边。")
        if q.qtype == "closer":
            a, b = self.ref(q.subject), self.ref(s["other"])
            first, second = (a, b) if s["order"] == 0 else (b, a)
            return f"开始时，{first}和{second}哪个离镜头更近？", f"{a}。"
        if q.qtype == "why_moves":
            return f"{self.ref(q.subject)}为什么开始移动？", f"因为{self.ref(s['cause'])}撞到了它。"
        if q.qtype == "why_topples":
            return f"是什么让{self.ref(q.subject)}倒下的？", f"{self.ref(s['cause'])}撞到了它。"
        if q.qtype == "why_stops_falling":
            return f"{self.ref(q.subject)}为什么停止下落？", f"因为它落到了{self.ref(s['other'])}上。"
        if q.qtype == "why_bounces":
            return f"{self.ref(q.subject)}为什么在大约{s['at']:.1f}秒时向上弹起？", f"因为它从{self.ref(s['other'])}上反弹了。"
        after = pick(rng, ("片段结束后，", "在片段结束之后，"))
        x = self.ref(q.subject)
        if q.qtype == "what_next":
            return f"{after}{x}接下来会怎样？", f"它{self.vp(s['message'], rng)}。"
        if q.qtype in ("will_hit", "will_topple", "will_exit", "will_move", "will_rest"):
            flip = s.get("flip", False)
            other = self.ref(s["other"]) if "other" in s else ""
            within = f"{s.get('within', 0.0):.1f}秒"
            asked = {
                "will_hit": (f"{x}会撞上{other}吗？", f"{x}会和{other}一直保持分开吗？"),
                "will_topple": (f"{x}会倒下吗？", f"{x}会一直保持直立吗？"),
                "will_exit": (f"{x}会离开画面吗？", f"{x}会一直留在画面中吗？"),
                "will_move": (f"{x}还会再移动吗？", f"{x}会一直待在原地吗？"),
                "will_rest": (f"{after}{x}会在{within}内停下来吗？", f"片段结束{within}后，{x}还会在运动吗？"),
            }[q.qtype][flip]
            asked = asked if q.qtype == "will_rest" else after + asked
            if q.qtype == "will_rest" and "at" in s:
                return asked, f"{'会' if q.answer else '不会'}，它大约在{s['at']:.1f}秒时停下。"
            return asked, yes_no(True)
        without = pick(rng, (f"如果没有{self.ref(s['removed'])}，", f"假如移走{self.ref(s['removed'])}，"))
        if q.qtype == "cf_moves":
            return f"{without}{self.ref(q.subject)}还会移动吗？", "会。" if q.answer else "不会，它会待在原地。"
        if q.qtype == "cf_topple":
            return f"{without}{self.ref(q.subject)}还会倒下吗？", yes_no(True)
        if q.qtype == "cf_hit":
            return f"{without}{self.ref(q.subject)}还会撞上{self.ref(s['other'])}吗？", yes_no(True)
        raise ValueError(f"no Chinese question for {q.qtype!r}")
