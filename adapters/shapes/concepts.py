"""Approximations for prompts outside the shapes world: "a panda eats bamboo" is drawn as something sensible
(a white circle that bounces) instead of a default, and the scene says it was approximated.

Each concept gives a stand-in shape and, where it has one, a colour, a motion, a count or a background; words
of the grammar in the same prompt ("a *red* car drives *left*") still win over these hints.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from adapters.shapes.lexicon import Colour, Lex, Motion, Shape, concept_words, words


@dataclass(frozen=True)
class Concept:
    shape: Shape | None = None  # None: a setting (sky, night, forest), only a background hint
    colour: Colour | None = None
    motion: Motion | None = None
    count: int | None = None
    background: Colour | None = None


CONCEPTS: MappingProxyType[str, Concept] = MappingProxyType(
    {
        # people
        "person": Concept("heart", "orange", "right"),
        "dancer": Concept("star", "pink", "spin"),
        "crowd": Concept("heart", "orange", "right", count=4),
        # animals
        "cat": Concept("circle", "orange", "bounce"),
        "dog": Concept("circle", "brown", "right"),
        "bird": Concept("triangle", "blue", "up"),
        "fish": Concept("triangle", "orange", "left", background="blue"),
        "panda": Concept("circle", "white", "bounce", background="green"),
        "horse": Concept("square", "brown", "right"),
        "butterfly": Concept("heart", "yellow", "circle"),
        "rabbit": Concept("circle", "white", "bounce"),
        "dragon": Concept("star", "red", "right"),
        # vehicles
        "car": Concept("square", "red", "right"),
        "train": Concept("square", "grey", "left"),
        "plane": Concept("triangle", "white", "right", background="blue"),
        "boat": Concept("triangle", "white", "right", background="blue"),
        "bicycle": Concept("ring", "black", "right"),
        "rocket": Concept("triangle", "white", "up", background="black"),
        "balloon": Concept("circle", "red", "up", background="blue"),
        # nature and scenery
        "sun": Concept("circle", "yellow", "up", background="blue"),
        "moon": Concept("circle", "white", "still", background="black"),
        "flower": Concept("star", "pink", "still", background="green"),
        "tree": Concept("triangle", "green", "still"),
        "mountain": Concept("triangle", "grey", "still"),
        "snow": Concept("circle", "white", "down", count=4),
        "rain": Concept("circle", "blue", "down", count=4),
        "leaf": Concept("heart", "green", "down"),
        "fireworks": Concept("star", "yellow", "up", count=4, background="black"),
        "wave": Concept("ring", "white", "right", background="blue"),
        "sky": Concept(background="blue"),
        "night": Concept(background="black"),
        "sea": Concept(background="blue"),
        "forest": Concept(background="green"),
        "desert": Concept(background="orange"),
        # culture and things
        "lantern": Concept("circle", "red", "up", background="black"),
        "kite": Concept("square", "red", "up", background="blue"),
        "dumpling": Concept("circle", "white", "still"),
        "tea": Concept("ring", "green", "spin"),
        "drum": Concept("ring", "red", "bounce"),
        "coin": Concept("ring", "yellow", "spin"),
        "clock": Concept("ring", "white", "spin"),
    }
)

_EN = {
    **concept_words("person", "person", "man", "woman", "child", "kid", "girl", "boy", "people", "player"),
    **concept_words("person", "astronaut", "chef", "runner", "farmer", "student", "soldier", "monk", "robot"),
    **concept_words("dancer", "dancer", "ballerina"),
    **concept_words("crowd", "crowd"),
    **concept_words("cat", "cat", "kitten"),
    **concept_words("dog", "dog", "puppy"),
    **concept_words("bird", "bird", "eagle", "crane", "swallow", "duck", "swan", "parrot"),
    **concept_words("fish", "fish", "goldfish", "koi", "whale", "dolphin", "shark"),
    **concept_words("panda", "panda"),
    **concept_words("horse", "horse", "cow", "elephant", "lion", "tiger", "bear", "deer", "monkey"),
    **concept_words("butterfly", "butterfly", "butterflies", "bee", "dragonfly"),
    **concept_words("rabbit", "rabbit", "bunny", "frog"),
    **concept_words("dragon", "dragon"),
    **concept_words("car", "car", "bus", "truck", "taxi", "vehicle", "motorcycle", "van", "jeep"),
    **concept_words("train", "train", "subway", "tram"),
    **concept_words("plane", "plane", "airplane", "aeroplane", "jet", "helicopter", "drone"),
    **concept_words("boat", "boat", "ship", "sailboat", "canoe", "yacht"),
    **concept_words("bicycle", "bicycle", "bike", "wheel"),
    **concept_words("rocket", "rocket", "spaceship"),
    **concept_words("balloon", "balloon"),
    **concept_words("sun", "sun", "sunrise", "sunset"),
    **concept_words("moon", "moon", "full moon"),
    **concept_words("flower", "flower", "rose", "lotus", "blossom", "tulip"),
    **concept_words("tree", "tree", "bamboo", "pine"),
    **concept_words("mountain", "mountain", "hill", "volcano", "rock"),
    **concept_words("snow", "snowflake"),
    **words(Lex("concept", "snow"), "snow", "snowing", "snowfall"),
    **words(Lex("concept", "rain"), "rain", "raining", "raindrops", "rainfall"),
    **concept_words("leaf", "leaf", "leaves", "petal"),
    **words(Lex("concept", "fireworks"), "firework", "fireworks"),
    **concept_words("wave", "wave", "river", "waterfall"),
    **words(Lex("concept", "sky"), "sky", "clouds", "cloud"),
    **words(Lex("concept", "night"), "night", "at night", "space", "outer space", "galaxy"),
    **words(Lex("concept", "sea"), "sea", "ocean", "lake", "underwater", "beach"),
    **words(Lex("concept", "forest"), "forest", "jungle", "grass", "meadow", "garden", "park", "field"),
    **words(Lex("concept", "desert"), "desert", "sand"),
    **concept_words("lantern", "lantern"),
    **concept_words("kite", "kite"),
    **concept_words("dumpling", "dumpling", "noodle", "rice", "bowl", "cake", "bread"),
    **concept_words("tea", "tea", "teacup", "cup", "coffee"),
    **concept_words("drum", "drum"),
    **concept_words("coin", "coin"),
    **concept_words("clock", "clock"),
}

_ZH = {
    **words(Lex("concept", "person"), "人", "男人", "女人", "孩子", "女孩", "男孩", "老人", "宇航员", "厨师"),
    **words(Lex("concept", "person"), "学生", "士兵", "和尚", "机器人", "运动员", "姑娘", "小孩"),
    **words(Lex("concept", "dancer"), "舞者", "舞蹈", "跳舞"),
    **words(Lex("concept", "crowd"), "人群"),
    **words(Lex("concept", "cat"), "猫", "小猫"),
    **words(Lex("concept", "dog"), "狗", "小狗"),
    **words(Lex("concept", "bird"), "鸟", "鹰", "鹤", "燕子", "鸭", "天鹅", "鹦鹉"),
    **words(Lex("concept", "fish"), "鱼", "金鱼", "锦鲤", "鲸", "海豚", "鲨鱼"),
    **words(Lex("concept", "panda"), "熊猫"),
    **words(Lex("concept", "horse"), "马", "牛", "大象", "狮子", "老虎", "熊", "鹿", "猴"),
    **words(Lex("concept", "butterfly"), "蝴蝶", "蜜蜂", "蜻蜓"),
    **words(Lex("concept", "rabbit"), "兔", "青蛙"),
    **words(Lex("concept", "dragon"), "龙", "舞龙", "舞狮"),
    **words(Lex("concept", "car"), "汽车", "车", "公交", "卡车", "出租车", "摩托"),
    **words(Lex("concept", "train"), "火车", "高铁", "地铁", "列车"),
    **words(Lex("concept", "plane"), "飞机", "直升机", "无人机"),
    **words(Lex("concept", "boat"), "船", "帆船", "龙舟"),
    **words(Lex("concept", "bicycle"), "自行车", "单车", "轮子"),
    **words(Lex("concept", "rocket"), "火箭", "飞船"),
    **words(Lex("concept", "balloon"), "气球"),
    **words(Lex("concept", "sun"), "太阳", "日出", "日落", "夕阳"),
    **words(Lex("concept", "moon"), "月亮", "月"),
    **words(Lex("concept", "flower"), "花", "玫瑰", "荷花", "莲花", "梅花", "樱花"),
    **words(Lex("concept", "tree"), "树", "竹", "松"),
    **words(Lex("concept", "mountain"), "山", "火山", "石头"),
    **words(Lex("concept", "snow"), "雪", "雪花"),
    **words(Lex("concept", "rain"), "雨", "雨滴"),
    **words(Lex("concept", "leaf"), "叶", "花瓣"),
    **words(Lex("concept", "fireworks"), "烟花", "烟火", "鞭炮"),
    **words(Lex("concept", "wave"), "浪", "河", "瀑布", "江"),
    **words(Lex("concept", "sky"), "天空", "云"),
    **words(Lex("concept", "night"), "夜", "星空", "太空", "宇宙"),
    **words(Lex("concept", "sea"), "海", "湖", "水下", "沙滩"),
    **words(Lex("concept", "forest"), "森林", "草地", "草原", "花园", "公园", "田野"),
    **words(Lex("concept", "desert"), "沙漠"),
    **words(Lex("concept", "lantern"), "灯笼", "花灯"),
    **words(Lex("concept", "kite"), "风筝"),
    **words(Lex("concept", "dumpling"), "饺子", "包子", "面条", "米饭", "汤圆", "月饼", "蛋糕", "碗"),
    **words(Lex("concept", "tea"), "茶", "杯", "咖啡"),
    **words(Lex("concept", "drum"), "鼓"),
    **words(Lex("concept", "coin"), "硬币", "铜钱"),
    **words(Lex("concept", "clock"), "钟", "手表"),
}

EN_CONCEPTS: MappingProxyType[str, Lex] = MappingProxyType(_EN)
ZH_CONCEPTS: MappingProxyType[str, Lex] = MappingProxyType(_ZH)
